-- The stored text analysis the detail and theme pages show: a change renews the data
-- version (data_version.sql).

CREATE TRIGGER IF NOT EXISTS opinions_remarkanalysis_data_version_insert AFTER INSERT ON opinions_remarkanalysis
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_remarkanalysis_data_version_update AFTER UPDATE ON opinions_remarkanalysis
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_remarkanalysis_data_version_delete AFTER DELETE ON opinions_remarkanalysis
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_themedigest_data_version_insert AFTER INSERT ON opinions_themedigest
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_themedigest_data_version_update AFTER UPDATE ON opinions_themedigest
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_themedigest_data_version_delete AFTER DELETE ON opinions_themedigest
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_remarkgroup_data_version_insert AFTER INSERT ON opinions_remarkgroup
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_remarkgroup_data_version_update AFTER UPDATE ON opinions_remarkgroup
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_remarkgroup_data_version_delete AFTER DELETE ON opinions_remarkgroup
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
