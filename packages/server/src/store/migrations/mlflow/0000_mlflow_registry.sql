CREATE TABLE "model_version_tags" (
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"name" varchar(256) NOT NULL,
	"version" integer NOT NULL,
	"key" varchar(250) NOT NULL,
	"value" text,
	CONSTRAINT "model_version_tag_pk" PRIMARY KEY("workspace","key","name","version")
);
--> statement-breakpoint
CREATE TABLE "model_versions" (
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"name" varchar(256) NOT NULL,
	"version" integer NOT NULL,
	"creation_time" bigint,
	"last_updated_time" bigint,
	"description" varchar(5000),
	"user_id" varchar(256),
	"current_stage" varchar(20) DEFAULT 'None',
	"source" varchar(500),
	"storage_location" varchar(500),
	"run_id" varchar(32),
	"run_link" varchar(500),
	"status" varchar(20) DEFAULT 'READY',
	"status_message" varchar(500),
	CONSTRAINT "model_version_pk" PRIMARY KEY("workspace","name","version")
);
--> statement-breakpoint
CREATE TABLE "registered_model_aliases" (
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"name" varchar(256) NOT NULL,
	"alias" varchar(256) NOT NULL,
	"version" integer NOT NULL,
	CONSTRAINT "registered_model_alias_pk" PRIMARY KEY("workspace","name","alias")
);
--> statement-breakpoint
CREATE TABLE "registered_model_tags" (
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"name" varchar(256) NOT NULL,
	"key" varchar(250) NOT NULL,
	"value" varchar(5000),
	CONSTRAINT "registered_model_tag_pk" PRIMARY KEY("workspace","key","name")
);
--> statement-breakpoint
CREATE TABLE "registered_models" (
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"name" varchar(256) NOT NULL,
	"creation_time" bigint,
	"last_updated_time" bigint,
	"description" varchar(5000),
	CONSTRAINT "registered_model_pk" PRIMARY KEY("workspace","name")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"webhook_id" varchar(256) NOT NULL,
	"entity" varchar(50) NOT NULL,
	"action" varchar(50) NOT NULL,
	CONSTRAINT "webhook_event_pk" PRIMARY KEY("webhook_id","entity","action")
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	"webhook_id" varchar(256) NOT NULL,
	"name" varchar(256) NOT NULL,
	"description" varchar(1000),
	"url" varchar(500) NOT NULL,
	"status" varchar(20) DEFAULT 'ACTIVE' NOT NULL,
	"secret" varchar(1000),
	"creation_timestamp" bigint,
	"last_updated_timestamp" bigint,
	"deleted_timestamp" bigint,
	CONSTRAINT "webhook_pk" PRIMARY KEY("webhook_id")
);
--> statement-breakpoint
ALTER TABLE "model_version_tags" ADD CONSTRAINT "fk_model_version_tags_model_versions" FOREIGN KEY ("workspace","name","version") REFERENCES "public"."model_versions"("workspace","name","version") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "model_versions" ADD CONSTRAINT "fk_model_versions_registered_models" FOREIGN KEY ("workspace","name") REFERENCES "public"."registered_models"("workspace","name") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "registered_model_aliases" ADD CONSTRAINT "registered_model_alias_registered_model_fkey" FOREIGN KEY ("workspace","name") REFERENCES "public"."registered_models"("workspace","name") ON DELETE cascade ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "registered_model_tags" ADD CONSTRAINT "fk_registered_model_tags_registered_models" FOREIGN KEY ("workspace","name") REFERENCES "public"."registered_models"("workspace","name") ON DELETE no action ON UPDATE cascade;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_webhook_id_webhooks_webhook_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("webhook_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_model_version_tags_workspace_name_version" ON "model_version_tags" USING btree ("workspace","name","version");--> statement-breakpoint
CREATE INDEX "idx_model_versions_run_id" ON "model_versions" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "idx_model_versions_stage" ON "model_versions" USING btree ("workspace","name","current_stage","version");--> statement-breakpoint
CREATE INDEX "idx_registered_model_tags_workspace_name" ON "registered_model_tags" USING btree ("workspace","name");--> statement-breakpoint
CREATE INDEX "idx_registered_models_workspace" ON "registered_models" USING btree ("workspace");--> statement-breakpoint
CREATE INDEX "idx_webhook_events_entity" ON "webhook_events" USING btree ("entity");--> statement-breakpoint
CREATE INDEX "idx_webhook_events_action" ON "webhook_events" USING btree ("action");--> statement-breakpoint
CREATE INDEX "idx_webhook_events_entity_action" ON "webhook_events" USING btree ("entity","action");--> statement-breakpoint
CREATE INDEX "idx_webhooks_status" ON "webhooks" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_webhooks_name" ON "webhooks" USING btree ("name");--> statement-breakpoint
CREATE INDEX "idx_webhooks_workspace" ON "webhooks" USING btree ("workspace");