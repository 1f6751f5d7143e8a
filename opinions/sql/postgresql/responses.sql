-- The response ledger's tables that public pages show: a change renews the data version
-- (data_version.sql).

CREATE OR REPLACE TRIGGER opinions_responsecategory_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_responsecategory FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_policydocument_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_policydocument FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_response_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_response FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_responseremark_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_responseremark FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_responsereference_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_responsereference FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
