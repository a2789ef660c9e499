from . import sync_token_show
