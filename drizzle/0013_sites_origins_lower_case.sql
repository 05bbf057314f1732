-- A browser sends its Origin with the scheme and host in lower case; an origin stored as typed
-- (https://Shop.Example) never matched it, so that site's widget was refused. Sites now store
-- origins lower-cased (normaliseOrigin, chat/sites.ts); this does the same for the rows before.
-- The previous release, running beside this one during an upgrade, compares as before and matches what it matched, or more.
UPDATE "sites" SET "origins" = ARRAY(SELECT lower(o) FROM unnest("origins") AS o) WHERE "origins"::text <> lower("origins"::text);
