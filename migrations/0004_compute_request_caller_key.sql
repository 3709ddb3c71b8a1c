ALTER TABLE "compute_request" ADD COLUMN "caller_key" text;--> statement-breakpoint
CREATE UNIQUE INDEX "compute_request_caller_key" ON "compute_request" USING btree ("caller_key");