-- Rasa's tracker store lives in its own database next to the kefu database.
CREATE DATABASE rasa OWNER kefu;
