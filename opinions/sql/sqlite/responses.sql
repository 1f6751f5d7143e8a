-- The response ledger's tables that public pages show: a change renews the data version
-- (data_version.sql).

CREATE TRIGGER IF NOT EXISTS opinions_responsecategory_data_version_insert AFTER INSERT ON opinions_responsecategory
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responsecategory_data_version_update AFTER UPDATE ON opinions_responsecategory
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responsecategory_data_version_delete AFTER DELETE ON opinions_responsecategory
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_policydocument_data_version_insert AFTER INSERT ON opinions_policydocument
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_policydocument_data_version_update AFTER UPDATE ON opinions_policydocument
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_policydocument_data_version_delete AFTER DELETE ON opinions_policydocument
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_response_data_version_insert AFTER INSERT ON opinions_response
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_response_data_version_update AFTER UPDATE ON opinions_response
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_response_data_version_delete AFTER DELETE ON opinions_response
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responseremark_data_version_insert AFTER INSERT ON opinions_responseremark
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responseremark_data_version_update AFTER UPDATE ON opinions_responseremark
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responseremark_data_version_delete AFTER DELETE ON opinions_responseremark
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responsereference_data_version_insert AFTER INSERT ON opinions_responsereference
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responsereference_data_version_update AFTER UPDATE ON opinions_responsereference
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_responsereference_data_version_delete AFTER DELETE ON opinions_responsereference
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
