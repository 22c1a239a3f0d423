-- grain: one row per mParticle Warehouse Sync connection (id). The source drops credentials
-- before loading; the warehouse user name and the cloud role/external ids are left out here too.
with source as (
    {{ jobpulse_raw_relation('mparticle_connections', [
        ['id', 'text'],
        ['name', 'text'],
        ['type', 'text'],
        ['workspace_id', 'bigint'],
        ['is_faulted', 'boolean'],
        ['source_account_id', 'text'],
        ['region', 'text'],
        ['warehouse', 'text'],
        ['database', 'text'],
        ['created_on', 'timestamp'],
        ['created_by', 'text'],
        ['last_modified_on', 'timestamp'],
        ['last_modified_by', 'text'],
    ]) }}
),

final as (
    select
        id as connection_id,
        name as connection_name,
        lower(type) as connection_type,
        workspace_id,
        is_faulted,
        source_account_id,
        region,
        warehouse,
        {{ adapter.quote('database') }} as database_name,
        created_on as created_at,
        created_by,
        last_modified_on as last_modified_at,
        last_modified_by
    from source
)

select * from final
