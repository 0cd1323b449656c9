#!/usr/bin/env python3
"""s3obj.py: a tiny S3 client for tests and benchmarks (Python standard
library only, AWS SigV4, path-style requests), independent of tidemark's
driver so a test can look at and change what tidemark stored.

  s3obj.py count PREFIX            "<objects> <bytes>" under PREFIX (ListObjectsV2)
  s3obj.py list PREFIX             "<size> <key>" per object, key order
  s3obj.py get KEY FILE            object -> FILE
  s3obj.py put KEY FILE            FILE -> object (single PUT)
  s3obj.py rm-prefix PREFIX        delete every object under PREFIX

Settings from the environment: S3_ENDPOINT (http://127.0.0.1:PORT),
S3_BUCKET, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY /
S3_SECRET_KEY), AWS_REGION (or S3_REGION, default us-east-1).
The secret is used for signing only and never printed.
"""
import datetime
import hashlib
import hmac
import http.client
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def env(*names, default=None):
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    if default is None:
        sys.exit("s3obj: set %s" % " or ".join(names))
    return default


def enc(s, keep_slash=False):
    return urllib.parse.quote(s, safe="/~" if keep_slash else "~")


class S3:
    def __init__(self):
        u = urllib.parse.urlsplit(env("S3_ENDPOINT"))
        self.host = u.netloc
        self.https = u.scheme == "https"
        self.bucket = env("S3_BUCKET")
        self.key_id = env("AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY")
        self.secret = env("AWS_SECRET_ACCESS_KEY", "S3_SECRET_KEY")
        self.region = env("AWS_REGION", "S3_REGION", default="us-east-1")
        cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
        self.conn = cls(self.host, timeout=120)

    def request(self, method, key, query=None, body=b"", headers=None):
        path = "/" + self.bucket + ("/" + key if key is not None else "")
        q = sorted((enc(k), enc(v)) for k, v in (query or {}).items())
        qs = "&".join("%s=%s" % kv for kv in q)
        now = datetime.datetime.now(datetime.timezone.utc)
        amz = now.strftime("%Y%m%dT%H%M%SZ")
        ph = hashlib.sha256(body).hexdigest()
        h = {"host": self.host, "x-amz-date": amz, "x-amz-content-sha256": ph}
        h.update({k.lower(): v for k, v in (headers or {}).items()})
        names = sorted(h)
        creq = "\n".join([method, enc(path, True), qs] + ["%s:%s" % (n, h[n].strip()) for n in names]
                         + ["", ";".join(names), ph])
        scope = "%s/%s/s3/aws4_request" % (amz[:8], self.region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + self.secret).encode()
        for part in (amz[:8], self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        h["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s,SignedHeaders=%s,Signature=%s" % (
            self.key_id, scope, ";".join(names), sig)
        del h["host"]
        self.conn.request(method, enc(path, True) + ("?" + qs if qs else ""), body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        if r.status // 100 != 2:
            code = ""
            try:
                code = ET.fromstring(data).findtext("Code") or ""
            except ET.ParseError:
                pass
            sys.exit("s3obj: %s %s/%s: HTTP %d %s" % (method, self.bucket, key or "", r.status, code))
        return data

    def list(self, prefix):
        token = None
        while True:
            q = {"list-type": "2", "prefix": prefix, "max-keys": "1000"}
            if token:
                q["continuation-token"] = token
            root = ET.fromstring(self.request("GET", None, q))
            for c in root.iter(NS + "Contents"):
                yield c.findtext(NS + "Key"), int(c.findtext(NS + "Size"))
            if root.findtext(NS + "IsTruncated") != "true":
                return
            token = root.findtext(NS + "NextContinuationToken")


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    s3, cmd = S3(), argv[1]
    if cmd == "count":
        n = b = 0
        for _, size in s3.list(argv[2]):
            n, b = n + 1, b + size
        print(n, b)
    elif cmd == "list":
        for key, size in s3.list(argv[2]):
            print(size, key)
    elif cmd == "get":
        with open(argv[3], "wb") as f:
            f.write(s3.request("GET", argv[2]))
    elif cmd == "put":
        with open(argv[3], "rb") as f:
            s3.request("PUT", argv[2], body=f.read())
    elif cmd == "rm-prefix":
        for key, _ in list(s3.list(argv[2])):
            s3.request("DELETE", key)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
