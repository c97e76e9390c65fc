"""Seeds moto for scripts/bench-refresh and times the plain boto3 baseline.

  bench_refresh.py seed URL N     registers a CA, N device certificates (one thing each,
                                  attached), three policies attached to the certificates
  bench_refresh.py list URL       lists and describes every certificate; prints the count
                                  and the seconds it took
"""
import datetime
import sys
import time

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def client(url):
    return boto3.client(
        "iot",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fleetid bench"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def seed(url, count):
    iot = client(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("bench root CA"))
        .issuer_name(name("bench root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    iot.register_ca_certificate(
        caCertificate=pem(ca), verificationCertificate=pem(ca), setAsActive=True
    )
    policies = ["bench-device", "bench-telemetry", "bench-debug"]
    for policy in policies:
        iot.create_policy(
            policyName=policy,
            policyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}',
        )
    # One device key for all: the key is not what a refresh reads, the certificates are.
    device_key = ec.generate_private_key(ec.SECP256R1())
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)
    for i in range(count):
        thing = f"bench-{i:05d}"
        cert = (
            x509.CertificateBuilder()
            .subject_name(name(thing))
            .issuer_name(name("bench root CA"))
            .public_key(device_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=400))
            .not_valid_after(now + datetime.timedelta(days=30 + i % 700))
            .add_extension(aki, critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        out = iot.register_certificate(
            certificatePem=pem(cert), caCertificatePem=pem(ca), status="ACTIVE"
        )
        arn = out["certificateArn"]
        iot.create_thing(thingName=thing, attributePayload={"attributes": {"firmware": "1.4.2"}})
        iot.attach_thing_principal(thingName=thing, principal=arn)
        iot.attach_policy(policyName=policies[0], target=arn)
        if i % 2 == 0:
            iot.attach_policy(policyName=policies[1], target=arn)
        if i % 50 == 0:
            iot.attach_policy(policyName=policies[2], target=arn)


def list_and_describe(url):
    iot = client(url)
    started = time.monotonic()
    described = 0
    for page in iot.get_paginator("list_certificates").paginate(pageSize=250):
        for cert in page["certificates"]:
            iot.describe_certificate(certificateId=cert["certificateId"])
            described += 1
    print(f"{described} {time.monotonic() - started:.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed(sys.argv[2], int(sys.argv[3]))
    else:
        list_and_describe(sys.argv[2])
