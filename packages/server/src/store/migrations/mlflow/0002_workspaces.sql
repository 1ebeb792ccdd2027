CREATE TABLE "workspaces" (
	"name" varchar(63) NOT NULL,
	"description" text,
	"default_artifact_root" text,
	"trace_archival_location" text,
	"trace_archival_retention" varchar(32),
	CONSTRAINT "workspaces_pk" PRIMARY KEY("name")
);
--> statement-breakpoint
INSERT INTO "workspaces" ("name", "description") VALUES ('default', 'Default workspace for legacy resources') ON CONFLICT DO NOTHING;
