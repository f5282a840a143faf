-- Agreements with many subscribers for the subscribers-page benchmark, on top of the demo
-- data (Camille Martin of Contoso is made super admin of each). The caller creates and
-- fills a temporary table first:
--     CREATE TEMP TABLE bench_sizes (license TEXT, n INTEGER);
-- Rows are written without search terms; `openseat migrate` computes them afterwards,
-- through the same code as the server's own writes.
--
-- The data is deterministic. Names: 40 first names × 100 family names (so one family
-- name, e.g. Moreau, is 1 % of an agreement); references: one of ten departments (10 %
-- each, e.g. Engineering); countries FR 60 %, GB 20 %, US 20 %; levels spread evenly.

CREATE TEMP TABLE firsts (i INTEGER PRIMARY KEY, v TEXT);
CREATE TEMP TABLE lasts (i INTEGER PRIMARY KEY, v TEXT);
CREATE TEMP TABLE depts (i INTEGER PRIMARY KEY, v TEXT);
INSERT INTO firsts (i, v) VALUES
 (0,'Alice'),(1,'Bruno'),(2,'Camille'),(3,'David'),(4,'Emma'),(5,'Farid'),(6,'Gabriel'),(7,'Hugo'),
 (8,'Inès'),(9,'Jules'),(10,'Karim'),(11,'Léa'),(12,'Manon'),(13,'Nathan'),(14,'Olivia'),(15,'Paul'),
 (16,'Quentin'),(17,'Rose'),(18,'Sarah'),(19,'Thomas'),(20,'Ugo'),(21,'Victor'),(22,'William'),
 (23,'Xavier'),(24,'Yasmine'),(25,'Zoé'),(26,'Anna'),(27,'Benoît'),(28,'Chloé'),(29,'Denis'),
 (30,'Élodie'),(31,'François'),(32,'Grace'),(33,'Henri'),(34,'Isabelle'),(35,'Jean'),(36,'Kevin'),
 (37,'Laura'),(38,'Marc'),(39,'Nina');
INSERT INTO lasts (i, v) VALUES
 (0,'Martin'),(1,'Bernard'),(2,'Dubois'),(3,'Thomas'),(4,'Robert'),(5,'Richard'),(6,'Petit'),
 (7,'Durand'),(8,'Leroy'),(9,'Moreau'),(10,'Simon'),(11,'Laurent'),(12,'Lefebvre'),(13,'Michel'),
 (14,'Garcia'),(15,'David'),(16,'Bertrand'),(17,'Roux'),(18,'Vincent'),(19,'Fournier'),(20,'Morel'),
 (21,'Girard'),(22,'André'),(23,'Lefèvre'),(24,'Mercier'),(25,'Dupont'),(26,'Lambert'),(27,'Bonnet'),
 (28,'François'),(29,'Martinez'),(30,'Legrand'),(31,'Garnier'),(32,'Faure'),(33,'Rousseau'),
 (34,'Blanc'),(35,'Guerin'),(36,'Muller'),(37,'Henry'),(38,'Roussel'),(39,'Nicolas'),(40,'Perrin'),
 (41,'Morin'),(42,'Mathieu'),(43,'Clement'),(44,'Gauthier'),(45,'Dumont'),(46,'Lopez'),
 (47,'Fontaine'),(48,'Chevalier'),(49,'Robin'),(50,'Smith'),(51,'Johnson'),(52,'Williams'),
 (53,'Brown'),(54,'Jones'),(55,'Miller'),(56,'Davis'),(57,'Wilson'),(58,'Anderson'),(59,'Taylor'),
 (60,'Moore'),(61,'Jackson'),(62,'White'),(63,'Harris'),(64,'Clark'),(65,'Lewis'),(66,'Walker'),
 (67,'Hall'),(68,'Allen'),(69,'Young'),(70,'King'),(71,'Wright'),(72,'Scott'),(73,'Green'),
 (74,'Baker'),(75,'Adams'),(76,'Nelson'),(77,'Hill'),(78,'Campbell'),(79,'Mitchell'),(80,'Roberts'),
 (81,'Carter'),(82,'Phillips'),(83,'Evans'),(84,'Turner'),(85,'Torres'),(86,'Parker'),(87,'Collins'),
 (88,'Edwards'),(89,'Stewart'),(90,'Flores'),(91,'Morris'),(92,'Nguyen'),(93,'Murphy'),(94,'Rivera'),
 (95,'Cook'),(96,'Rogers'),(97,'Morgan'),(98,'Peterson'),(99,'Cooper');
INSERT INTO depts (i, v) VALUES
 (0,'Engineering'),(1,'Sales'),(2,'Marketing'),(3,'Finance'),(4,'Support'),(5,'Legal'),
 (6,'Operations'),(7,'Research'),(8,'Design'),(9,'Security');

INSERT INTO agreements (license_number, auth_hash, auth_sealed, customer_org_id, customer_email, partner_org_id,
                        start_date, end_date, created_at)
SELECT b.license, 'bench-' || b.license, 'bench', g.customer_org_id, g.customer_email, g.partner_org_id,
       '2026-01-01', '2029-12-31', 0
FROM bench_sizes b, (SELECT * FROM agreements WHERE customer_email = 'camille@contoso.example' LIMIT 1) g;

INSERT INTO admin_roles (agreement_id, user_id, role, granted_at)
SELECT a.id, u.id, 'super_admin', 0
FROM agreements a JOIN bench_sizes b ON b.license = a.license_number, users u
WHERE u.email = 'camille@contoso.example';

INSERT INTO pools (agreement_id, level_id, purchased, assigned)
SELECT a.id, l.id, b.n, 0 FROM agreements a JOIN bench_sizes b ON b.license = a.license_number, levels l;

WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < (SELECT MAX(n) FROM bench_sizes))
INSERT INTO subscriptions (uuid, agreement_id, level_id, name, sign_in_email, notification_email, country,
                           language, downloads, reference, assigned_at, expires_on, updated_at)
SELECT printf('%08x-0000-4000-8000-%012x', a.id, seq.i), a.id, 1 + seq.i % 4,
       f.v || ' ' || l.v,
       lower(f.v) || '.' || lower(l.v) || '.' || seq.i || '@contoso.example', NULL,
       CASE seq.i % 5 WHEN 0 THEN 'US' WHEN 1 THEN 'GB' ELSE 'FR' END,
       CASE seq.i % 3 WHEN 0 THEN 'en' ELSE 'fr' END,
       seq.i % 7 != 0, d.v, 1767225600 + seq.i, '2029-12-31', 0
FROM agreements a JOIN bench_sizes b ON b.license = a.license_number
JOIN seq ON seq.i <= b.n
JOIN firsts f ON f.i = (seq.i * 7) % 40
JOIN lasts l ON l.i = (seq.i / 40 + seq.i * 3) % 100
JOIN depts d ON d.i = (seq.i / 3) % 10;

UPDATE pools SET assigned = (SELECT COUNT(*) FROM subscriptions s
                             WHERE s.agreement_id = pools.agreement_id AND s.level_id = pools.level_id)
WHERE agreement_id IN (SELECT a.id FROM agreements a JOIN bench_sizes b ON b.license = a.license_number);
