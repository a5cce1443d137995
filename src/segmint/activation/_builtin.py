"""The built-in destination kinds, registered like a plugin's would be."""

from __future__ import annotations

from segmint.activation._audiences import AudienceFile
from segmint.activation._crm import CrmFile
from segmint.activation._destination import register_destination
from segmint.activation._files import CsvFile, ParquetFile, XlsxFile
from segmint.activation._postgres import PostgresTable
from segmint.activation._webhook import Webhook

register_destination("csv", CsvFile)
register_destination("xlsx", XlsxFile)
register_destination("parquet", ParquetFile)
for _kind in ("hubspot_contacts", "hubspot_companies", "salesforce_leads", "crm_mapping"):
    register_destination(_kind, CrmFile)
for _kind in ("linkedin_companies", "linkedin_contacts", "meta_audience", "google_audience"):
    register_destination(_kind, AudienceFile)
register_destination("webhook", Webhook)
register_destination("postgres", PostgresTable)
