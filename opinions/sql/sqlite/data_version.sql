-- The data version on SQLite (the embedded demo database): one row whose token every write to
-- a table a cached page shows renews. SQLite has one writer at a time and row triggers only.
-- On PostgreSQL see postgresql/data_version.sql.

CREATE TABLE IF NOT EXISTS opinions_dataversion (id integer PRIMARY KEY CHECK (id = 1), token text NOT NULL);
INSERT OR IGNORE INTO opinions_dataversion VALUES (1, lower(hex(randomblob(16))));

CREATE TRIGGER IF NOT EXISTS opinions_opinion_data_version_insert AFTER INSERT ON opinions_opinion
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_data_version_update AFTER UPDATE ON opinions_opinion
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_data_version_delete AFTER DELETE ON opinions_opinion
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_municipality_sizes_data_version_insert AFTER INSERT ON opinions_opinion_municipality_sizes
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_municipality_sizes_data_version_update AFTER UPDATE ON opinions_opinion_municipality_sizes
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_municipality_sizes_data_version_delete AFTER DELETE ON opinions_opinion_municipality_sizes
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_stakeholders_data_version_insert AFTER INSERT ON opinions_opinion_stakeholders
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_stakeholders_data_version_update AFTER UPDATE ON opinions_opinion_stakeholders
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_opinion_stakeholders_data_version_delete AFTER DELETE ON opinions_opinion_stakeholders
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_municipalitysize_data_version_insert AFTER INSERT ON opinions_municipalitysize
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_municipalitysize_data_version_update AFTER UPDATE ON opinions_municipalitysize
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_municipalitysize_data_version_delete AFTER DELETE ON opinions_municipalitysize
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_stakeholder_data_version_insert AFTER INSERT ON opinions_stakeholder
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_stakeholder_data_version_update AFTER UPDATE ON opinions_stakeholder
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_stakeholder_data_version_delete AFTER DELETE ON opinions_stakeholder
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_theme_data_version_insert AFTER INSERT ON opinions_theme
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_theme_data_version_update AFTER UPDATE ON opinions_theme
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_theme_data_version_delete AFTER DELETE ON opinions_theme
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_sourcedocument_data_version_insert AFTER INSERT ON opinions_sourcedocument
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_sourcedocument_data_version_update AFTER UPDATE ON opinions_sourcedocument
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_sourcedocument_data_version_delete AFTER DELETE ON opinions_sourcedocument
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_sourcedocument_meetings_data_version_insert AFTER INSERT ON opinions_sourcedocument_meetings
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_sourcedocument_meetings_data_version_update AFTER UPDATE ON opinions_sourcedocument_meetings
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_sourcedocument_meetings_data_version_delete AFTER DELETE ON opinions_sourcedocument_meetings
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_meeting_data_version_insert AFTER INSERT ON opinions_meeting
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_meeting_data_version_update AFTER UPDATE ON opinions_meeting
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_meeting_data_version_delete AFTER DELETE ON opinions_meeting
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_committee_data_version_insert AFTER INSERT ON opinions_committee
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_committee_data_version_update AFTER UPDATE ON opinions_committee
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_committee_data_version_delete AFTER DELETE ON opinions_committee
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_synonymgroup_data_version_insert AFTER INSERT ON opinions_synonymgroup
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_synonymgroup_data_version_update AFTER UPDATE ON opinions_synonymgroup
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS opinions_synonymgroup_data_version_delete AFTER DELETE ON opinions_synonymgroup
BEGIN
    UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;
END;
