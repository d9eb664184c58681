"""packets: a covering index for housekeeping time series

The index on (apid, unix_s) becomes one on (apid, unix_s, obt_s, id) that also holds every column a
housekeeping series returns but the octets, so the series is read from the index alone.

Revision ID: 0002hk
Revises: 0001
Create Date: 2026-12-03
"""
from alembic import op


revision = '0002hk'
down_revision = '0001'
branch_labels = None
depends_on = None

_COLUMNS = ['apid', 'unix_s', 'obt_s', 'id', 'decode_id', 'pus_service', 'pus_subtype', 'sequence_count', 'pec_ok']


def upgrade() -> None:
    with op.batch_alter_table('packets', schema=None) as batch_op:
        batch_op.drop_index('ix_packets_apid_time')
        batch_op.create_index('ix_packets_housekeeping', _COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table('packets', schema=None) as batch_op:
        batch_op.drop_index('ix_packets_housekeeping')
        batch_op.create_index('ix_packets_apid_time', ['apid', 'unix_s'], unique=False)
