"""Calls an API with a credplug credential: python3 call_api.py PLUGIN CREDENTIAL.json URL"""
import os
import sys

import requests

import credplug
from credplug.auth import RequestsAuth

plugin, credential_file, url = sys.argv[1:4]
with credplug.Host() as host, host.open(plugin, open(credential_file).read()) as cred:
    answer = requests.patch(url, json=[], auth=RequestsAuth(cred), verify=os.environ.get("CREDPLUG_CA_FILE"))
    print(answer.status_code, answer.text)
