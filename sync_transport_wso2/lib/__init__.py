"""Pure-Python parts of the WSO2 transport: the broker protocol and its HTTP client."""
