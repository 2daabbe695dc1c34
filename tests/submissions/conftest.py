"""Fixtures for the submissions tests: a real S3 API (moto's server on 127.0.0.1)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import boto3  # type: ignore[import-untyped]
import pytest
from moto.server import ThreadedMotoServer
from obstore.store import S3Store

S3_REGION = "us-east-1"
S3_ACCESS_KEY = "testing-access-key"
S3_SECRET_KEY = "testing-secret-key"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on a free port of 127.0.0.1 for the whole run."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_store(s3_endpoint: str) -> S3Store:
    """An obstore S3Store on a fresh bucket, configured like a real S3-compatible store."""
    bucket = f"hackops-test-{secrets.token_hex(4)}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    ).create_bucket(Bucket=bucket)
    return S3Store(
        bucket,
        endpoint=s3_endpoint,
        region=S3_REGION,
        access_key_id=S3_ACCESS_KEY,
        secret_access_key=S3_SECRET_KEY,
        virtual_hosted_style_request=False,
        client_options={"allow_http": True},
    )
