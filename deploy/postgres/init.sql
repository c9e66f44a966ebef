-- Each service owns its own database (DESIGN §2).
CREATE DATABASE catalog;
CREATE DATABASE provisioning;
CREATE DATABASE rating;
CREATE DATABASE invoicing;
CREATE DATABASE overage;
