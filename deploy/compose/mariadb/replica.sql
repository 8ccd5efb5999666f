-- Runs once, when mariadb-2 (the first replica) initialises its data
-- directory: the same users as the master (not binary-logged, see master.sql),
-- then GTID replication from mariadb-1.
SET SESSION sql_log_bin = 0;

CREATE USER 'vigil'@'%' IDENTIFIED BY 'vigil-dev-topology';
GRANT ALL PRIVILEGES ON *.* TO 'vigil'@'%';

CREATE USER 'repl'@'%' IDENTIFIED BY 'vigil-dev-repl';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';

SET SESSION sql_log_bin = 1;

SET GLOBAL gtid_slave_pos = '';
CHANGE MASTER TO
  MASTER_HOST = 'mariadb-1',
  MASTER_PORT = 3306,
  MASTER_USER = 'repl',
  MASTER_PASSWORD = 'vigil-dev-repl',
  MASTER_USE_GTID = slave_pos,
  MASTER_CONNECT_RETRY = 1,
  MASTER_HEARTBEAT_PERIOD = 1;
START SLAVE;
