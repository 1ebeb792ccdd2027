-- Stamps the auth tables as MLflow 3.17.2's alembic head (f1a2b3c4d5e6), as `mlflow server --app-name
-- basic-auth` would have left them, so that MLflow's basic-auth app can run on them too. On a database whose
-- auth tables MLflow created, this migration set is never applied (auth/migrations.ts).
INSERT INTO "alembic_version_auth" ("version_num") VALUES ('f1a2b3c4d5e6');
