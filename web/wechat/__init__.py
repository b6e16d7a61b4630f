"""WeChat channels (official account, mini-program, WeCom): crypto, messages, plain-text replies."""
