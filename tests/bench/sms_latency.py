#!/usr/bin/env python3
"""Webhook -> TwiML latency of POST /api/sms/incoming on a running djdash node.

Method: every request is a real Twilio-style form (the fields Twilio posts for an inbound SMS)
with its own MessageSid and customer number, signed exactly as Twilio signs it
(X-Twilio-Signature = base64(HMAC-SHA1(auth token, public URL + path + sorted key+value))), so
each one is a full turn: signature check, org lookup, the conversation entity, the classifier,
the agent and its tools, and the database writes. Latency is measured from just before the
request is written until the whole TwiML response is read, over keep-alive connections, with
`--concurrency` clients. Prints p50, p90, p99 and max in milliseconds.

Usage (the node needs TWILIO_AUTH_TOKEN and DJDASH_PUBLIC_URL, and an organization whose
sms_number is --to):
  tests/bench/sms_latency.py --port 8080 --token "$TWILIO_AUTH_TOKEN" \
      --public-url "$DJDASH_PUBLIC_URL" --to +15005550006 --requests 500 --concurrency 4
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import random
import statistics
import sys
import threading
import time
import urllib.parse

TEXTS = [
    "are you available june 14?",
    "how much for a 4 hour wedding?",
    "whats ur rate for a sweet 16, 5 hrs",
    "can you call me back tomorrow about the playlist",
    "hi who is this",
]


def signature(token, url, params):
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def worker(args, index, count, out, errors):
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    url = args.public_url.rstrip("/") + "/api/sms/incoming"
    rng = random.Random(index)
    for i in range(count):
        sid = "SM%032x" % rng.getrandbits(128)
        params = {
            "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid,
            "AccountSid": "AC" + "0" * 32, "From": "+1415%07d" % rng.randrange(10**7),
            "To": args.to, "Body": rng.choice(TEXTS), "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        body = urllib.parse.urlencode(params)
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": signature(args.token, url, params)}
        start = time.perf_counter()
        try:
            conn.request("POST", "/api/sms/incoming", body, headers)
            resp = conn.getresponse()
            resp.read()
            elapsed = (time.perf_counter() - start) * 1000.0
            if resp.status != 200:
                errors.append(resp.status)
            else:
                out.append(elapsed)
        except (OSError, http.client.HTTPException) as e:
            errors.append(str(e))
            conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--token", required=True, help="TWILIO_AUTH_TOKEN of the node")
    p.add_argument("--public-url", required=True, help="DJDASH_PUBLIC_URL of the node")
    p.add_argument("--to", required=True, help="the organization's sms_number (E.164)")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=4)
    args = p.parse_args()
    latencies, errors = [], []
    per = max(1, args.requests // args.concurrency)
    threads = [threading.Thread(target=worker, args=(args, i, per, latencies, errors))
               for i in range(args.concurrency)]
    wall = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    if not latencies:
        print("no successful requests; errors:", errors[:5], file=sys.stderr)
        return 1
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print("requests %d ok, %d failed, %.1f req/s, concurrency %d"
          % (len(latencies), len(errors), len(latencies) / wall, args.concurrency))
    print("webhook -> TwiML latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f"
          % (q[49], q[89], q[98], latencies[-1]))
    return 0 if not errors else 2


if __name__ == "__main__":
    sys.exit(main())
