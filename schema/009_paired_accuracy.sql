-- 009: which images an evaluation got right (docs/eval.md), so that two
-- methods evaluated on the same images can be compared image by image
-- (McNemar's test in the report). images_sha256 names the images (dataset,
-- split and indices); top1_correct holds one bit per image, as hex (image i
-- in bit i % 8 of byte i / 8). NULL from agents before schema 3.
ALTER TABLE evaluations ADD COLUMN images_sha256 TEXT
  CHECK (images_sha256 IS NULL OR (length(images_sha256) = 64
                                   AND images_sha256 NOT GLOB '*[^0-9a-f]*'));
ALTER TABLE evaluations ADD COLUMN top1_correct TEXT
  CHECK (top1_correct IS NULL OR (length(top1_correct) = 2 * ((images + 7) / 8)
                                  AND top1_correct NOT GLOB '*[^0-9a-f]*'));
