from . import test_transport_wso2
