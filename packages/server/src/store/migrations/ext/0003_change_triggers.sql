-- Triggers on the registry tables, whoever writes them (this server, plain SQL, `mlflow server`, another
-- tool). Plain (not constraint) triggers, so that no constraint is added to MLflow's tables.
--
-- Every change to the tables the read cache serves is announced on the change feed's channel
-- (events/sink.ts CHANGES_CHANNEL) with the changed model's cache key. This server's one-statement
-- writes announce in that statement and set mlflow_ts.announced, so the triggers (which run at the end
-- of the statement) skip them at the cost of one function call per changed row. Nothing is sent while no
-- read cache listens (registry_cache_listeners is empty), e.g. always on the embedded database.
-- PostgreSQL delivers identical notifications of one transaction once.
--
-- The read cache's key of a model (registry/read-cache.ts modelKey) as a one-element JSON array:
-- the bare name in the default workspace, else workspace NUL name.
CREATE OR REPLACE FUNCTION mlflow_ts_model_key_json(ws text, name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT '[' || CASE WHEN ws = 'default' THEN to_json(name)::text
                     ELSE left(to_json(ws)::text, -1) || '\u0000' || substr(to_json(name)::text, 2) END || ']'
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION mlflow_ts_announce_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('mlflow_ts.announced', true) = 'on' THEN RETURN NULL; END IF;
  IF NOT EXISTS (SELECT 1 FROM registry_cache_listeners) THEN RETURN NULL; END IF;
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('mlflow_ts_registry_changes', mlflow_ts_model_key_json(OLD.workspace, OLD.name));
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('mlflow_ts_registry_changes', mlflow_ts_model_key_json(NEW.workspace, NEW.name));
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- "Everything changed": a truncated registry table, a workspace changed or deleted (the cache keeps which
-- workspaces exist). Statement-level: rare statements, announced even when this server announces too.
CREATE OR REPLACE FUNCTION mlflow_ts_announce_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM registry_cache_listeners) THEN PERFORM pg_notify('mlflow_ts_registry_changes', 'null'); END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['registered_models', 'model_versions', 'registered_model_tags', 'model_version_tags', 'registered_model_aliases'] LOOP
    EXECUTE format('CREATE OR REPLACE TRIGGER mlflow_ts_announce_change AFTER INSERT OR UPDATE OR DELETE ON %I '
                   'FOR EACH ROW EXECUTE FUNCTION mlflow_ts_announce_change()', t);
    EXECUTE format('CREATE OR REPLACE TRIGGER mlflow_ts_announce_truncate AFTER TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION mlflow_ts_announce_everything()', t);
  END LOOP;
  IF to_regclass('workspaces') IS NOT NULL THEN
    CREATE OR REPLACE TRIGGER mlflow_ts_announce_workspaces AFTER UPDATE OR DELETE OR TRUNCATE ON workspaces
      FOR EACH STATEMENT EXECUTE FUNCTION mlflow_ts_announce_everything();
  END IF;
END
$$;
