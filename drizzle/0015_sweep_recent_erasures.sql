-- Sessions erased lately, written in the erasing transaction: the realtime sweep closes the
-- widget sockets of one whose erased event was lost (no session row is left to find). The
-- retention job prunes rows older than an hour; the sweep reads its window by erased_at.
-- Distributed by site_id like chat_sessions (the primary key holds it).
CREATE TABLE "recent_erasures" (
	"site_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"erased_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "recent_erasures_pkey" PRIMARY KEY("session_id","site_id")
);
--> statement-breakpoint
CREATE INDEX "recent_erasures_erased_at_idx" ON "recent_erasures" USING btree ("erased_at");