CREATE TABLE "alembic_version_auth" (
	"version_num" varchar(32) NOT NULL,
	CONSTRAINT "alembic_version_auth_pkc" PRIMARY KEY("version_num")
);
--> statement-breakpoint
CREATE TABLE "experiment_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"experiment_id" varchar(255) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(255),
	CONSTRAINT "unique_experiment_user" UNIQUE("experiment_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "gateway_endpoint_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"endpoint_id" varchar(255) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(255),
	CONSTRAINT "unique_endpoint_user" UNIQUE("endpoint_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "gateway_model_definition_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"model_definition_id" varchar(255) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(255),
	CONSTRAINT "unique_model_def_user" UNIQUE("model_definition_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "gateway_secret_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"secret_id" varchar(255) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(255),
	CONSTRAINT "unique_secret_user" UNIQUE("secret_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "registered_model_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(255),
	"workspace" varchar(63) DEFAULT 'default' NOT NULL,
	CONSTRAINT "unique_workspace_name_user" UNIQUE("workspace","name","user_id")
);
--> statement-breakpoint
CREATE TABLE "role_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"role_id" integer NOT NULL,
	"resource_type" varchar(64) NOT NULL,
	"resource_pattern" varchar(255) NOT NULL,
	"permission" varchar(255) NOT NULL,
	CONSTRAINT "unique_role_resource_perm" UNIQUE("role_id","resource_type","resource_pattern")
);
--> statement-breakpoint
CREATE TABLE "roles" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" varchar(255) NOT NULL,
	"workspace" varchar(63) NOT NULL,
	"description" varchar(1024),
	CONSTRAINT "unique_workspace_role_name" UNIQUE("workspace","name")
);
--> statement-breakpoint
CREATE TABLE "scorer_permissions" (
	"id" serial PRIMARY KEY NOT NULL,
	"experiment_id" varchar(255) NOT NULL,
	"scorer_name" varchar(256) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(255),
	CONSTRAINT "unique_scorer_user" UNIQUE("experiment_id","scorer_name","user_id")
);
--> statement-breakpoint
CREATE TABLE "user_role_assignments" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" integer NOT NULL,
	"role_id" integer NOT NULL,
	CONSTRAINT "unique_user_role" UNIQUE("user_id","role_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" serial PRIMARY KEY NOT NULL,
	"username" varchar(255),
	"password_hash" varchar(255),
	"is_admin" boolean,
	CONSTRAINT "users_username_key" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "workspace_permissions" (
	"workspace" varchar(63) NOT NULL,
	"user_id" integer NOT NULL,
	"permission" varchar(32) NOT NULL,
	CONSTRAINT "workspace_permissions_pk" PRIMARY KEY("workspace","user_id")
);
--> statement-breakpoint
ALTER TABLE "experiment_permissions" ADD CONSTRAINT "fk_user_id" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway_endpoint_permissions" ADD CONSTRAINT "fk_gateway_endpoint_perm_user_id" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway_model_definition_permissions" ADD CONSTRAINT "fk_gateway_model_def_perm_user_id" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway_secret_permissions" ADD CONSTRAINT "fk_gateway_secret_perm_user_id" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "registered_model_permissions" ADD CONSTRAINT "fk_user_id" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_permissions" ADD CONSTRAINT "role_permissions_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "public"."roles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "scorer_permissions" ADD CONSTRAINT "fk_scorer_perm_user_id" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_role_assignments" ADD CONSTRAINT "user_role_assignments_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "user_role_assignments" ADD CONSTRAINT "user_role_assignments_role_id_fkey" FOREIGN KEY ("role_id") REFERENCES "public"."roles"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "workspace_permissions" ADD CONSTRAINT "workspace_permissions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idx_role_permissions_role_id" ON "role_permissions" USING btree ("role_id");--> statement-breakpoint
CREATE INDEX "idx_roles_workspace" ON "roles" USING btree ("workspace");--> statement-breakpoint
CREATE INDEX "idx_user_role_assignments_user_id" ON "user_role_assignments" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_user_role_assignments_role_id" ON "user_role_assignments" USING btree ("role_id");--> statement-breakpoint
CREATE INDEX "idx_workspace_permissions_user_id" ON "workspace_permissions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_workspace_permissions_workspace" ON "workspace_permissions" USING btree ("workspace");