__path__ = [__path__[0]+"/server_code", __path__[0]+"/client_code"]
