"""The tutorial's client, with requests: log in with HTTP Basic, then show the
token to /test. Over HTTPS with a self-signed certificate, requests trusts it
through verify=:

    python3 examples/client.py http://127.0.0.1:5000
    python3 examples/client.py https://127.0.0.1:5000 cert.pem

Prints the token and /test's answer; exits 1 when one is not what the server
should say.
"""
import sys

import requests

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"
verify = sys.argv[2] if len(sys.argv) > 2 else True

# 1. Log in: the tutorial's user, as HTTP Basic credentials.
r = requests.get(base + "/login", auth=("magigo", "123456"), verify=verify)
token = r.text
print("token:", token)

# 2. Show the token to /test: 'data' while it is the newest one.
r = requests.get(base + "/test", params={"token": token}, verify=verify)
print("test:", r.text)

sys.exit(0 if r.text == "data" else 1)
