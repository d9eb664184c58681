"""recordings.path: where the recording's files were when it was decoded

Revision ID: 0003
Revises: 0002hk
Create Date: 2026-12-03

Nullable: recordings catalogued before this revision, and frame files, have no path.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002hk'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('path', sa.String(length=4096), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_column('path')
