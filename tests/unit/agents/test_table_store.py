"""Every table's RocksDB store gets kesu's sizing, not Faust's 64 MiB x 3 memtables per partition."""

from __future__ import annotations

from pathlib import Path

from agents.app import create_app
from agents.consumer import TABLE_STORE_OPTIONS
from kesu.settings import Settings


def test_every_rocksdb_table_is_sized_for_small_records(tmp_path: Path) -> None:
    app = create_app(
        Settings(_env_file=None, kafka_bootstrap="127.0.0.1:1", namespace="x", data_dir=tmp_path)
    )
    assert len(app.tables) == 6
    for table in app.tables.values():
        options = table.data.rocksdb_options
        assert options.write_buffer_size == TABLE_STORE_OPTIONS["write_buffer_size"] < 64 << 20
        assert options.max_write_buffer_number == 2
        assert options.block_cache_size == TABLE_STORE_OPTIONS["block_cache_size"] < 2 << 30


def test_the_memory_store_takes_no_rocksdb_options(tmp_path: Path) -> None:
    app = create_app(
        Settings(
            _env_file=None,
            kafka_bootstrap="127.0.0.1:1",
            namespace="x",
            data_dir=tmp_path,
            store="memory",
        )
    )
    assert all(not table.options for table in app.tables.values())
