# Source: github.com/anvil-works/anvil-runtime, packaging/app-server/templates/Default/server_code/ServerModule1.py
# (commit 34067eb48f36f2bfc97227bb019b0fc4c8116e1f), unchanged below this header. Anvil's Default app template; its LICENSE
# grants permission to use, copy, modify and distribute it for any purpose.
import anvil.server

# This is a server module. It runs on the server, rather than in the user's browser.
#
# To allow anvil.server.call() to call functions here, we mark
# them with @anvil.server.callable.


@anvil.server.callable
def say_hello_name(name):
  return f"Hello from the server, {name}!"
