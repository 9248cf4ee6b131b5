#!/usr/bin/env python3
"""The reference signatures for infc's SigV4 test: botocore's SigV4Auth (S3SigV4Auth for S3) at
a fixed clock. Reads a JSON list of request shapes on stdin and writes, for each, the URL botocore's
serializers would send and the headers the signer set, as a JSON list on stdout."""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def sign(case):
    fixed = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
    port = f":{case['port']}" if "port" in case else ""
    path = percent_encode(case["path"], safe="/~")
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in case["query"])
    url = f"{case['scheme']}://{case['host']}{port}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=case["method"], url=url, data=base64.b64decode(case["body"]))
    for name, value in case["headers"]:
        request.headers[name] = value  # HTTPHeaders appends: repeated names stay repeated
    credentials = Credentials(case["accessKey"], case["secretKey"], case.get("token"))
    signer_class = botocore.auth.S3SigV4Auth if case["s3"] else botocore.auth.SigV4Auth
    signer_class(credentials, case["service"], case["region"]).add_auth(request)
    out = {"url": url}
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256"):
        if name in request.headers:
            out[name] = request.headers[name]
    return out


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(case) for case in cases], sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
