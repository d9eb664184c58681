"""Exports: result tables as CSV, JSON, XML or Parquet; items as a ZIP of files and metadata.

Tables are streamed row by row (CSV, JSON, XML) or in 50 000-row record batches (Parquet,
with pyarrow), so memory stays flat in the number of rows.

ZIP of items: for each item ``<item>/`` holds its stored files and ``metadata.json`` and
``metadata.xml`` (the item's metadata, as :func:`~heradecode.archive.query.get_item` gives it);
``manifest.json`` at the top lists the items.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from heradecode.archive.access import Principal
from heradecode.archive.query import QueryResult, get_item
from heradecode.archive.store import ContentStore
from heradecode.errors import UserError

FORMATS = ("csv", "json", "xml", "parquet")
MEDIA_TYPES = {"csv": "text/csv", "json": "application/json", "xml": "application/xml",
               "parquet": "application/vnd.apache.parquet", "zip": "application/zip"}


def _xml_value(parent: ET.Element, key: str, value: Any) -> None:
    tag = key if key.replace("_", "a").isalnum() and not key[:1].isdigit() else "entry"
    el = ET.SubElement(parent, tag)
    if tag != key:
        el.set("key", key)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(el, str(k), v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _xml_value(el, "value", v)
    elif value is not None:
        el.text = str(value).lower() if isinstance(value, bool) else str(value)


def metadata_xml(item: dict[str, Any]) -> bytes:
    """An item's metadata as an XML document."""
    root = ET.Element("item")
    for k, v in item.items():
        _xml_value(root, k, v)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def metadata_json(item: dict[str, Any]) -> bytes:
    """An item's metadata as JSON."""
    return (json.dumps(item, indent=1, default=str) + "\n").encode()


def _parquet(result: QueryResult, fh: IO[bytes]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 0
    writer = None
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal writer, batch
        table = pa.Table.from_pylist(batch)
        if writer is None:
            writer = pq.ParquetWriter(fh, table.schema)
        else:
            table = table.cast(writer.schema)
        writer.write_table(table)
        batch = []

    for row in result.rows:
        batch.append(row)
        n += 1
        if len(batch) >= 50_000:
            flush()
    if batch or writer is None:
        if not batch:
            schema = pa.schema([(c, pa.string()) for c in result.columns])
            pq.write_table(pa.Table.from_pylist([], schema=schema), fh)
            return 0
        flush()
    writer.close()
    return n


def write_table(result: QueryResult, fmt: str, fh: IO[bytes]) -> int:
    """Write a query result to a binary stream in ``fmt``; return the number of rows."""
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    if fmt == "parquet":
        return _parquet(result, fh)
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="", write_through=True)
    n = 0
    try:
        if fmt == "csv":
            w = csv.DictWriter(text, fieldnames=result.columns, lineterminator="\n")
            w.writeheader()
            for row in result.rows:
                w.writerow(row)
                n += 1
        elif fmt == "json":
            text.write('{"table": ' + json.dumps(result.target) + ', "columns": ' + json.dumps(result.columns)
                       + ', "rows": [')
            for row in result.rows:
                text.write(("," if n else "") + "\n" + json.dumps(row, default=str))
                n += 1
            text.write("\n]}\n")
        else:
            text.write('<?xml version="1.0" encoding="utf-8"?>\n')
            text.write(f'<table name="{result.target}">\n')
            for row in result.rows:
                el = ET.Element("row")
                for k, v in row.items():
                    _xml_value(el, k, v)
                text.write(ET.tostring(el, encoding="unicode") + "\n")
                n += 1
            text.write("</table>\n")
    finally:
        text.detach()
    return n


def write_items_zip(conn, who: Principal, item_ids: Iterable[int], store: ContentStore, fh: IO[bytes]) -> list[int]:
    """A ZIP of the items ``who`` may see among ``item_ids`` (files + metadata); returns the ids written."""
    written: list[int] = []
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for item_id in item_ids:
            item = get_item(conn, who, int(item_id))
            if item is None:
                continue
            base = f"{item['item']}"
            for p in item["products"]:
                with store.open(p["sha256"]) as src, zf.open(f"{base}/{Path(p['name']).name}", "w") as dst:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        dst.write(block)
            zf.writestr(f"{base}/metadata.json", metadata_json(item))
            zf.writestr(f"{base}/metadata.xml", metadata_xml(item))
            written.append(item["item"])
        zf.writestr("manifest.json", json.dumps({"items": written}) + "\n")
    return written
