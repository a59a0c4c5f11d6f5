import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { UserRole, UserStatus } from '@mz/contracts';

/** A person: subscriber or admin. Email is unique case-insensitively (unique index on lower(email)). */
@Entity('app_user')
export class AppUser {
  @PrimaryGeneratedColumn('uuid') id: string;
  /** Stored lower-cased; erased (replaced by a tombstone) when the user deletes themselves. */
  @Column('text') email: string;
  @Column('text', { nullable: true }) name: string | null;
  @Column('text', { default: 'subscriber' }) role: UserRole;
  @Column('text', { default: 'active' }) status: UserStatus;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'last_login_at', nullable: true }) lastLoginAt: Date | null;
}
