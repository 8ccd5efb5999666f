-- Runs once, when mariadb-1 (the first master) initialises its data directory.
--
-- Users are created with the binary log off so that both servers start with
-- the same, empty GTID state; mariadb-2 creates the same users itself. The
-- passwords must match vigil.env.
SET SESSION sql_log_bin = 0;

-- Vigil's topology user. A development stack: all privileges. In production
-- grant only what probing and recovery need.
CREATE USER 'vigil'@'%' IDENTIFIED BY 'vigil-dev-topology';
GRANT ALL PRIVILEGES ON *.* TO 'vigil'@'%';

-- The replication user every replica connects with.
CREATE USER 'repl'@'%' IDENTIFIED BY 'vigil-dev-repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';

SET SESSION sql_log_bin = 1;

-- A little data, binary-logged, so replication has something to carry.
CREATE DATABASE demo;
CREATE TABLE demo.greeting (id INT PRIMARY KEY, text VARCHAR(100) NOT NULL);
INSERT INTO demo.greeting VALUES (1, 'hello from mariadb-1');
