"""Uploaded product pictures over HTTP: served from the data folder with their own type, never sniffed,
cached for good (the name is the hash of the bytes), and nothing outside the folder is reachable."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.bootstrap import Container
from app.product_images import image_store
from tests.conftest import login
from tests.pictures import WEBP_LOSSY, jpeg, png


@pytest.mark.parametrize(("data", "media_type"), [(png(), "image/png"), (jpeg(), "image/jpeg"),
                                                  (WEBP_LOSSY, "image/webp")])
def test_an_uploaded_picture_is_served_with_its_type_nosniff_and_long_caching(
        client: TestClient, container: Container, data: bytes, media_type: str):
    path = image_store(container.settings.data_dir).save(data)

    response = client.get(path)

    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("name", [
    "0" * 64 + ".png",  # of the right form, but never uploaded
    "..%2F..%2Fpaygate.db", "%2e%2e%2f.jwt_secret", "..%2f.jwt_secret", "paygate.db", ".jwt_secret",
    "x.svg",
])
def test_unknown_and_malformed_names_are_404_and_nothing_outside_the_folder_is_read(
        client: TestClient, container: Container, name: str):
    image_store(container.settings.data_dir).save(png())

    response = client.get(f"/images/uploads/{name}")

    assert response.status_code == 404
    assert b"secret" not in response.content and b"SQLite" not in response.content


def test_a_path_that_climbs_out_of_the_uploads_folder_reaches_no_file(client: TestClient, container: Container):
    (container.settings.data_dir / "uploads").mkdir(exist_ok=True)

    for path in ("/images/uploads/../paygate.db", "/images/uploads/../../.jwt_secret", "/images/uploads/"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert not response.content.startswith(b"SQLite format"), path


def test_a_product_can_point_at_its_uploaded_picture_through_the_api(client: TestClient, container: Container):
    path = image_store(container.settings.data_dir).save(png())
    admin = login(client, "admin@example.com", "admin123")

    response = client.put("/api/products/prod_001", headers=admin, json={"imageUrl": path})

    assert response.status_code == 200, response.text
    assert client.get("/api/products/prod_001").json()["imageUrl"] == path
    assert client.get(path).status_code == 200
