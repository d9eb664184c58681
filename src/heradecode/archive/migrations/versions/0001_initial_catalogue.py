"""initial catalogue

Revision ID: 0001
Revises: 
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unix_s', sa.Float(), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('decode_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_unix_s'), ['unix_s'], unique=False)

    op.create_table('carrier_points',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decode_id', sa.Integer(), nullable=False),
    sa.Column('unix_s', sa.Float(), nullable=False),
    sa.Column('doppler_hz', sa.Float(), nullable=True),
    sa.Column('cn0_dbhz', sa.Float(), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('carrier_points', schema=None) as batch_op:
        batch_op.create_index('ix_carrier_decode', ['decode_id'], unique=False)

    op.create_table('frames',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decode_id', sa.Integer(), nullable=False),
    sa.Column('frame_index', sa.Integer(), nullable=False),
    sa.Column('unix_s', sa.Float(), nullable=True),
    sa.Column('scid', sa.Integer(), nullable=False),
    sa.Column('vcid', sa.Integer(), nullable=False),
    sa.Column('mc_count', sa.Integer(), nullable=False),
    sa.Column('vc_count', sa.Integer(), nullable=False),
    sa.Column('crc_ok', sa.Boolean(), nullable=False),
    sa.Column('ebn0_db', sa.Float(), nullable=True),
    sa.Column('iterations', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.create_index('ix_frames_decode_index', ['decode_id', 'frame_index'], unique=False)

    op.create_table('missions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('embargo_days', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('packets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('decode_id', sa.Integer(), nullable=False),
    sa.Column('frame_index', sa.Integer(), nullable=False),
    sa.Column('unix_s', sa.Float(), nullable=True),
    sa.Column('vcid', sa.Integer(), nullable=False),
    sa.Column('apid', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('sequence_count', sa.Integer(), nullable=False),
    sa.Column('length', sa.Integer(), nullable=False),
    sa.Column('pus_service', sa.Integer(), nullable=True),
    sa.Column('pus_subtype', sa.Integer(), nullable=True),
    sa.Column('obt_s', sa.Float(), nullable=True),
    sa.Column('pec_ok', sa.Boolean(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('packets', schema=None) as batch_op:
        batch_op.create_index('ix_packets_apid_time', ['apid', 'unix_s'], unique=False)
        batch_op.create_index('ix_packets_decode', ['decode_id'], unique=False)

    op.create_table('recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checksum', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('station', sa.String(length=128), nullable=True),
    sa.Column('start_unix_s', sa.Float(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('samp_rate_hz', sa.Float(), nullable=True),
    sa.Column('center_freq_hz', sa.Float(), nullable=True),
    sa.Column('sigmf_json', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checksum')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('created_unix_s', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('decodes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recording_id', sa.Integer(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_latest', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('mission', sa.String(length=32), nullable=False),
    sa.Column('heradecode_version', sa.String(length=32), nullable=True),
    sa.Column('mode', sa.String(length=16), nullable=True),
    sa.Column('params_json', sa.Text(), nullable=True),
    sa.Column('doppler_source', sa.String(length=255), nullable=True),
    sa.Column('stats_json', sa.Text(), nullable=True),
    sa.Column('start_unix_s', sa.Float(), nullable=True),
    sa.Column('stop_unix_s', sa.Float(), nullable=True),
    sa.Column('n_frames', sa.Integer(), nullable=False),
    sa.Column('n_packets', sa.Integer(), nullable=False),
    sa.Column('ingested_unix_s', sa.Float(), nullable=False),
    sa.Column('ingested_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['mission'], ['missions.name'], ),
    sa.ForeignKeyConstraint(['recording_id'], ['recordings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('content_sha256'),
    sa.UniqueConstraint('recording_id', 'version', name='uq_decode_version')
    )
    with op.batch_alter_table('decodes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decodes_ingested_unix_s'), ['ingested_unix_s'], unique=False)
        batch_op.create_index(batch_op.f('ix_decodes_is_latest'), ['is_latest'], unique=False)
        batch_op.create_index(batch_op.f('ix_decodes_mission'), ['mission'], unique=False)
        batch_op.create_index(batch_op.f('ix_decodes_recording_id'), ['recording_id'], unique=False)

    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decode_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=True),
    sa.Column('data_type', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['decode_id'], ['decodes.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decode_id', 'name', name='uq_product_name')
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_decode_id'), ['decode_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_decode_id'))

    op.drop_table('products')
    with op.batch_alter_table('decodes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decodes_recording_id'))
        batch_op.drop_index(batch_op.f('ix_decodes_mission'))
        batch_op.drop_index(batch_op.f('ix_decodes_is_latest'))
        batch_op.drop_index(batch_op.f('ix_decodes_ingested_unix_s'))

    op.drop_table('decodes')
    op.drop_table('users')
    op.drop_table('recordings')
    with op.batch_alter_table('packets', schema=None) as batch_op:
        batch_op.drop_index('ix_packets_decode')
        batch_op.drop_index('ix_packets_apid_time')

    op.drop_table('packets')
    op.drop_table('missions')
    with op.batch_alter_table('frames', schema=None) as batch_op:
        batch_op.drop_index('ix_frames_decode_index')

    op.drop_table('frames')
    with op.batch_alter_table('carrier_points', schema=None) as batch_op:
        batch_op.drop_index('ix_carrier_decode')

    op.drop_table('carrier_points')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_unix_s'))

    op.drop_table('audit_events')

