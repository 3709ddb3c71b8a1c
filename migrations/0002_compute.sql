CREATE TABLE "compute_input" (
	"request_hash" text PRIMARY KEY NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compute_request" (
	"id" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"status" text NOT NULL,
	"model_id" text,
	"requester" text NOT NULL,
	"job_id" text DEFAULT '0' NOT NULL,
	"max_price" text,
	"body" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"worker" text,
	"result" jsonb,
	"error" jsonb,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "compute_request_pending" ON "compute_request" USING btree ("status","lease_until");--> statement-breakpoint
CREATE INDEX "compute_request_job" ON "compute_request" USING btree ("job_id");