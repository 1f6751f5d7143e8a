-- The stored text analysis the detail and theme pages show: a change renews the data
-- version (data_version.sql).

CREATE OR REPLACE TRIGGER opinions_remarkanalysis_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_remarkanalysis FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_themedigest_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_themedigest FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_remarkgroup_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_remarkgroup FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
