"""Object storage down (moto's S3 server of the test's own, stopped): uploads and downloads are a
clear 503 `storage_unavailable`, quickly, and nothing is half-written (no file row, no object);
when the store is back, both work again."""

from __future__ import annotations

import secrets
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import httpx2
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from hackops.main import create_app
from hackops.models import SubmissionFile
from tests.conftest import make_settings
from tests.helpers import database_on, serving
from tests.outage import free_port, wait_for_port
from tests.submissions.conftest import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY
from tests.submissions.filehelpers import png_bytes
from tests.submissions.test_api import scene


async def test_uploads_and_downloads_say_storage_is_unavailable(
    session: AsyncSession,
    engine: AsyncEngine,
    connection: AsyncConnection,
    database_url: str,
    storage_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    bucket = f"hackops-outage-{secrets.token_hex(4)}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )
    s3.create_bucket(Bucket=bucket)
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": S3_REGION,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "AWS_ALLOW_HTTP": "true",
    }.items():
        monkeypatch.setenv(name, value)
    settings = make_settings(database_url, storage_dir, storage_url=f"s3://{bucket}")
    s, _, url = await scene(session, file_max_bytes=200_000, file_max_count=5)

    async def upload(http: httpx2.AsyncClient, name: str) -> httpx2.Response:
        return await http.post(
            url + "/files", params={"name": name}, headers=s.auth("alice"), content=png_bytes()
        )

    async def rows() -> int:
        return int(await session.scalar(select(func.count()).select_from(SubmissionFile)) or 0)

    def objects() -> set[str]:
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {item["Key"] for item in listed if not item["Key"].startswith(".health/")}

    try:
        app = create_app(settings, database=database_on(engine, connection))
        async with serving(app) as http:
            first = await upload(http, "before.png")
            assert first.status_code == 201, first.text
            link = await http.post(
                url + f"/files/{first.json()['id']}/link", headers=s.auth("olga")
            )
            download_url = link.json()["url"]
            assert (await http.get(download_url)).content == png_bytes()

            server.stop()
            wait_for_port(port, up=False)
            refused = await upload(http, "during.png")
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "storage_unavailable"
            assert "try again" in refused.json()["error"]["message"]
            assert await rows() == 1
            gone = await http.get(download_url)
            assert gone.status_code == 503, gone.text
            assert gone.json()["error"]["code"] == "storage_unavailable"

            server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
            server.start()  # moto keeps its buckets in this process: the same store again
            wait_for_port(port, up=True)
            again = await upload(http, "after.png")
            assert again.status_code == 201, again.text
            assert (await http.get(download_url)).status_code == 200
            keys = set(await session.scalars(select(SubmissionFile.storage_key)))
            assert objects() == keys  # nothing half-written: no orphan, no missing object
            assert await rows() == 2
    finally:
        server.stop()
