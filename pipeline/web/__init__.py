"""The reviewer web app (sealdesk web)."""
