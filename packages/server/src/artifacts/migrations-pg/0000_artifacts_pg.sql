CREATE TABLE "mlflow_ts_artifact_blobs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"created_at" bigint NOT NULL,
	"released_at" bigint
);
--> statement-breakpoint
CREATE TABLE "mlflow_ts_artifact_chunks" (
	"blob_id" bigint NOT NULL,
	"seq" integer NOT NULL,
	"data" "bytea" NOT NULL,
	CONSTRAINT "mlflow_ts_artifact_chunks_pkey" PRIMARY KEY("blob_id","seq")
);
--> statement-breakpoint
CREATE TABLE "mlflow_ts_artifacts" (
	"path" text COLLATE "C" PRIMARY KEY NOT NULL,
	"blob_id" bigint NOT NULL,
	"size" bigint NOT NULL,
	"chunk_size" integer NOT NULL,
	"chunk_count" integer NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "mlflow_ts_artifact_chunks" ADD CONSTRAINT "mlflow_ts_artifact_chunks_blob_id_fkey" FOREIGN KEY ("blob_id") REFERENCES "public"."mlflow_ts_artifact_blobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mlflow_ts_artifacts" ADD CONSTRAINT "mlflow_ts_artifacts_blob_id_fkey" FOREIGN KEY ("blob_id") REFERENCES "public"."mlflow_ts_artifact_blobs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "mlflow_ts_artifact_blobs_released_idx" ON "mlflow_ts_artifact_blobs" USING btree ("released_at") WHERE "mlflow_ts_artifact_blobs"."released_at" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "mlflow_ts_artifacts_blob_id_key" ON "mlflow_ts_artifacts" USING btree ("blob_id");