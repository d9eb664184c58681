"""The content-addressed store."""

import hashlib

import pytest

from heradecode.archive.store import ContentStore


def test_put_is_content_addressed_and_deduplicated(tmp_path):
    store = ContentStore(tmp_path / "store")
    a = tmp_path / "a.bin"
    a.write_bytes(b"frames" * 1000)
    b = tmp_path / "b.bin"
    b.write_bytes(b"frames" * 1000)
    ha, hb = store.put_file(a), store.put_file(b)
    assert ha == hb == hashlib.sha256(b"frames" * 1000).hexdigest()
    assert store.path(ha).read_bytes() == a.read_bytes()
    assert len([p for p in (tmp_path / "store").rglob("*") if p.is_file()]) == 1
    assert store.verify(ha)
    store.path(ha).write_bytes(b"damaged")
    assert not store.verify(ha)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab", "0" * 63, "g" * 64, "../" + "0" * 61])
def test_paths_only_for_digests(tmp_path, bad):
    with pytest.raises(ValueError):
        ContentStore(tmp_path).path(bad)


def test_interrupted_put_leaves_nothing_under_a_hash(tmp_path, monkeypatch):
    store = ContentStore(tmp_path / "store")
    src = tmp_path / "x"
    src.write_bytes(b"x" * 10)
    import os

    def boom(*a):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        store.put_file(src)
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


def test_put_hashed_copies_a_file_hashed_before(tmp_path):
    from heradecode.archive.store import sha256_file_stamped

    store = ContentStore(tmp_path / "store")
    src = tmp_path / "frames.u8"
    src.write_bytes(bytes(range(256)) * 500)
    digest, stamp = sha256_file_stamped(src)
    assert digest == hashlib.sha256(src.read_bytes()).hexdigest()
    store.put_hashed(src, digest, stamp)
    assert store.path(digest).read_bytes() == src.read_bytes() and store.verify(digest)
    store.put_hashed(src, digest, stamp)  # already there: nothing to do
    assert len([p for p in (tmp_path / "store").rglob("*") if p.is_file()]) == 1


def test_put_hashed_refuses_a_file_changed_since_it_was_hashed(tmp_path):
    from heradecode.archive.store import sha256_file_stamped

    store = ContentStore(tmp_path / "store")
    src = tmp_path / "packets.csv"
    src.write_bytes(b"a,b\n1,2\n")
    digest, stamp = sha256_file_stamped(src)
    src.write_bytes(b"a,b\n1,3\n")  # same size, new content
    with pytest.raises(ValueError):
        store.put_hashed(src, digest, stamp)
    assert not store.has(digest)
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
