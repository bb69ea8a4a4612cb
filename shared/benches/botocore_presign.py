"""botocore's generate_presigned_url on the same inputs as benches/sign.rs: prints ns per URL (median)."""

import statistics
import sys
import time

import boto3
from botocore.config import Config

token = sys.argv[1]
client = boto3.client(
    "s3",
    region_name="eu-west-1",
    aws_access_key_id="ASIAEXAMPLEKEYID0001",
    aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    aws_session_token=token,
    config=Config(signature_version="s3v4"),
)
keys = [f"datasets/2026/batch {i}/image_{i:05}+v2.jpg" for i in range(200)]
rounds = []
for _ in range(5):
    start = time.perf_counter_ns()
    for key in keys:
        client.generate_presigned_url("get_object", Params={"Bucket": "acme-data", "Key": key}, ExpiresIn=900)
    rounds.append((time.perf_counter_ns() - start) / len(keys))
print(statistics.median(rounds))
