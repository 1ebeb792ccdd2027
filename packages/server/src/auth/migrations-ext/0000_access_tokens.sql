CREATE TABLE "mlflow_ts_access_tokens" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"name" varchar(255) NOT NULL,
	"token_hash" varchar(64) NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"last_used_at" bigint,
	"revoked_at" bigint
);
--> statement-breakpoint
ALTER TABLE "mlflow_ts_access_tokens" ADD CONSTRAINT "mlflow_ts_access_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mlflow_ts_access_tokens_token_hash_key" ON "mlflow_ts_access_tokens" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "mlflow_ts_access_tokens_user_id_idx" ON "mlflow_ts_access_tokens" USING btree ("user_id");