CREATE TABLE "model_version_counters" (
	"workspace" varchar(63) NOT NULL,
	"name" varchar(256) NOT NULL,
	"last_version" integer NOT NULL,
	CONSTRAINT "model_version_counters_pk" PRIMARY KEY("workspace","name")
);
--> statement-breakpoint
-- A model's version counter (model_version_counters, store/registry-store.ts insertModelVersion) is
-- forgotten when the model is deleted or renamed: it is derivable (the model's highest version), and a
-- stale one must not number the versions of a new model of that name.
CREATE OR REPLACE FUNCTION mlflow_ts_forget_version_counter() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM model_version_counters WHERE workspace = OLD.workspace AND name = OLD.name;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE TRIGGER mlflow_ts_forget_version_counter AFTER DELETE OR UPDATE OF workspace, name ON registered_models
  FOR EACH ROW EXECUTE FUNCTION mlflow_ts_forget_version_counter();
