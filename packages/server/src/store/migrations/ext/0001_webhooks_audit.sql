CREATE TABLE "registry_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"time" bigint NOT NULL,
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"entity" varchar(50) NOT NULL,
	"action" varchar(50) NOT NULL,
	"name" varchar(256) NOT NULL,
	"version" integer,
	"alias" varchar(256),
	"data" jsonb NOT NULL,
	"before" jsonb,
	"actor" varchar(256),
	"webhook" boolean DEFAULT false NOT NULL,
	"payload" text
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_id" varchar(36) NOT NULL,
	"event_id" bigint NOT NULL,
	"webhook_id" varchar(256) NOT NULL,
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"status" varchar(20) NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"due_at" bigint NOT NULL,
	"created_at" bigint NOT NULL,
	"claimed_by" varchar(200),
	"claimed_at" bigint,
	"finished_at" bigint,
	"last_status_code" integer,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "webhook_delivery_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"delivery_row_id" bigint NOT NULL,
	"attempt" integer NOT NULL,
	"started_at" bigint,
	"finished_at" bigint NOT NULL,
	"response_status" integer,
	"response_body" text,
	"error" text,
	"worker" varchar(200)
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_event_id_registry_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."registry_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_delivery_attempts" ADD CONSTRAINT "webhook_delivery_attempts_delivery_row_id_webhook_deliveries_id_fk" FOREIGN KEY ("delivery_row_id") REFERENCES "public"."webhook_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_registry_events_name" ON "registry_events" USING btree ("workspace","name","id");--> statement-breakpoint
CREATE INDEX "idx_registry_events_time" ON "registry_events" USING btree ("workspace","time","id");--> statement-breakpoint
CREATE INDEX "idx_registry_events_renamed_from" ON "registry_events" USING btree ("workspace",("before" ->> 'name'),"id") WHERE "registry_events"."action" = 'renamed';--> statement-breakpoint
CREATE UNIQUE INDEX "idx_webhook_deliveries_delivery_id" ON "webhook_deliveries" USING btree ("delivery_id");--> statement-breakpoint
CREATE INDEX "idx_webhook_deliveries_due" ON "webhook_deliveries" USING btree ("due_at","id") WHERE "webhook_deliveries"."status" IN ('PENDING', 'IN_FLIGHT');--> statement-breakpoint
CREATE INDEX "idx_webhook_deliveries_webhook" ON "webhook_deliveries" USING btree ("webhook_id","id");--> statement-breakpoint
CREATE INDEX "idx_webhook_deliveries_event" ON "webhook_deliveries" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "idx_webhook_delivery_attempts_delivery" ON "webhook_delivery_attempts" USING btree ("delivery_row_id","attempt");