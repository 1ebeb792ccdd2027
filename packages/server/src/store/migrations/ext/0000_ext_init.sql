CREATE TABLE "mlflow_ts_meta" (
	"key" varchar(100) PRIMARY KEY NOT NULL,
	"value" varchar(1000),
	"updated_at" bigint
);
