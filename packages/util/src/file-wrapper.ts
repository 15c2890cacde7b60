export declare class FileWrapper {}
