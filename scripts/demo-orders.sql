-- Demo data: an `orders` table whose categorical columns depend on each other, with planted
-- anomalies that break a dependency while every value alone stays common.
--   country -> currency (local currency), country -> payment method (konbini only in JP, pix only
--   in BR, sepa only in DE/FR), category -> shipping (digital ships 'none', furniture 'freight'),
--   channel 'pos' never sells digital goods.
-- usage: psql -v rows=20000 -v anomaly_rate=0.01 -f scripts/demo-orders.sql   (deterministic)
\if :{?rows}
\else
\set rows 20000
\endif
\if :{?anomaly_rate}
\else
\set anomaly_rate 0.01
\endif

DROP TABLE IF EXISTS orders;
CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    country     text NOT NULL,
    currency    text NOT NULL,
    payment     text NOT NULL,
    channel     text NOT NULL,
    category    text NOT NULL,
    shipping    text NOT NULL,
    is_planted  boolean NOT NULL,  -- ground truth, for the demo's evaluation only
    broken      text[]             -- the two columns whose dependency a planted row breaks
);

SELECT setseed(0.42);
CREATE TEMP TABLE _draws AS
SELECT g, random() AS r1, random() AS r3, random() AS r4, random() AS r5,
       random() AS r6, random() AS kind
FROM generate_series(1, :rows) AS g;

INSERT INTO orders (country, currency, payment, channel, category, shipping, is_planted)
SELECT country,
       CASE country WHEN 'US' THEN 'USD' WHEN 'DE' THEN 'EUR' WHEN 'FR' THEN 'EUR'
                    WHEN 'GB' THEN 'GBP' WHEN 'JP' THEN 'JPY' ELSE 'BRL' END,
       CASE country
            WHEN 'US' THEN CASE WHEN r3 < 0.70 THEN 'card' WHEN r3 < 0.95 THEN 'paypal' ELSE 'applepay' END
            WHEN 'DE' THEN CASE WHEN r3 < 0.40 THEN 'sepa' WHEN r3 < 0.70 THEN 'card' ELSE 'paypal' END
            WHEN 'FR' THEN CASE WHEN r3 < 0.20 THEN 'sepa' WHEN r3 < 0.80 THEN 'card' ELSE 'paypal' END
            WHEN 'GB' THEN CASE WHEN r3 < 0.80 THEN 'card' ELSE 'paypal' END
            WHEN 'JP' THEN CASE WHEN r3 < 0.50 THEN 'card' ELSE 'konbini' END
            ELSE CASE WHEN r3 < 0.60 THEN 'pix' ELSE 'card' END END,
       channel, category,
       CASE category WHEN 'digital' THEN 'none'
                     WHEN 'furniture' THEN CASE WHEN r6 < 0.9 THEN 'freight' ELSE 'standard' END
                     ELSE CASE WHEN r6 < 0.7 THEN 'standard' ELSE 'express' END END,
       false
FROM (SELECT *,
             CASE WHEN r4 < 0.55 THEN 'web' WHEN r4 < 0.90 OR category = 'digital' THEN 'app'
                  ELSE 'pos' END AS channel
      FROM (SELECT *,
                   CASE WHEN r1 < 0.35 THEN 'US' WHEN r1 < 0.55 THEN 'DE' WHEN r1 < 0.70 THEN 'GB'
                        WHEN r1 < 0.82 THEN 'FR' WHEN r1 < 0.92 THEN 'JP' ELSE 'BR' END AS country,
                   CASE WHEN r5 < 0.30 THEN 'electronics' WHEN r5 < 0.55 THEN 'apparel'
                        WHEN r5 < 0.75 THEN 'grocery' WHEN r5 < 0.90 THEN 'digital'
                        ELSE 'furniture' END AS category
            FROM _draws) c) d
ORDER BY g;

-- planted anomalies: each breaks exactly one dependency with values that are common on their own
WITH victims AS (
    SELECT o.id, d.kind
    FROM orders o JOIN _draws d ON d.g = o.id
    WHERE d.kind < :anomaly_rate
)
UPDATE orders o SET
    currency = CASE WHEN v.kind < :anomaly_rate * 0.25 THEN
                    CASE o.country WHEN 'JP' THEN 'EUR' WHEN 'US' THEN 'JPY' WHEN 'GB' THEN 'BRL' ELSE 'GBP' END
               ELSE o.currency END,
    payment  = CASE WHEN v.kind >= :anomaly_rate * 0.25 AND v.kind < :anomaly_rate * 0.5 THEN
                    CASE WHEN o.country = 'JP' THEN 'pix' ELSE 'konbini' END
               ELSE o.payment END,
    shipping = CASE WHEN v.kind >= :anomaly_rate * 0.5 AND v.kind < :anomaly_rate * 0.75 THEN
                    CASE WHEN o.category = 'digital' THEN 'freight' ELSE 'none' END
               ELSE o.shipping END,
    channel  = CASE WHEN v.kind >= :anomaly_rate * 0.75 THEN 'pos' ELSE o.channel END,
    category = CASE WHEN v.kind >= :anomaly_rate * 0.75 THEN 'digital' ELSE o.category END,
    is_planted = true,
    broken = CASE WHEN v.kind < :anomaly_rate * 0.25 THEN ARRAY['country', 'currency']
                  WHEN v.kind < :anomaly_rate * 0.5 THEN ARRAY['country', 'payment']
                  WHEN v.kind < :anomaly_rate * 0.75 THEN ARRAY['category', 'shipping']
                  ELSE ARRAY['channel', 'category'] END
FROM victims v WHERE v.id = o.id;
-- the pos+digital kind also needs shipping 'none' so only the channel/category pair is broken
UPDATE orders SET shipping = 'none' WHERE is_planted AND channel = 'pos' AND category = 'digital';
DROP TABLE _draws;
ANALYZE orders;
