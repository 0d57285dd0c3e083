//! Poll PostgreSQL's pg_stat_activity during a load test; one PgSample per database per poll
