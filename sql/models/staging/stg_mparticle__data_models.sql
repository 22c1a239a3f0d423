-- grain: one row per mParticle Warehouse Sync data model (id)
with source as (
    {{ jobpulse_raw_relation('mparticle_data_models', [
        ['id', 'text'],
        ['name', 'text'],
        ['type', 'text'],
        ['workspace_id', 'bigint'],
        ['sql_query', 'text'],
        ['load_timestamp_field_name', 'text'],
        ['load_timestamp_field_type', 'text'],
        ['load_timestamp_field_time_zone', 'text'],
        ['load_timestamp_field_time_offset', 'bigint'],
        ['created_on', 'timestamp'],
        ['created_by', 'text'],
        ['last_modified_on', 'timestamp'],
        ['last_modified_by', 'text'],
    ]) }}
),

final as (
    select
        id as data_model_id,
        name as data_model_name,
        lower(type) as data_model_type,
        workspace_id,
        sql_query,
        load_timestamp_field_name,
        load_timestamp_field_type,
        load_timestamp_field_time_zone,
        load_timestamp_field_time_offset,
        created_on as created_at,
        created_by,
        last_modified_on as last_modified_at,
        last_modified_by
    from source
)

select * from final
