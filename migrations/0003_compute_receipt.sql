CREATE TABLE "compute_receipt" (
	"digest" text PRIMARY KEY NOT NULL,
	"worker" text NOT NULL,
	"nonce" numeric(78, 0) NOT NULL,
	"requester" text NOT NULL,
	"model_id" text NOT NULL,
	"request_hash" text NOT NULL,
	"output_hash" text NOT NULL,
	"job_id" numeric(78, 0) NOT NULL,
	"issued_at" numeric(78, 0) NOT NULL,
	"bundle" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "compute_receipt_worker_nonce" ON "compute_receipt" USING btree ("worker","nonce");--> statement-breakpoint
CREATE INDEX "compute_receipt_job" ON "compute_receipt" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "block_timestamp" ON "block" USING btree ("chain_id","timestamp");