// The floor for a Node CGI script: print a CGI response and exit.
import process from 'node:process';

process.stdout.write('Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');
